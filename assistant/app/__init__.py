"""What people use: the command line (``cli``), the Gradio chat (``ui``) and its HTTP headers
(``web_security``). Nothing is imported here: gradio loads when the chat is served."""
