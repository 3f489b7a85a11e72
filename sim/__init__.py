"""Talk to Pelvic Ease without an Echo: the conversation driver and the demo."""
