"""Start the web app: `python app.py` (the same as `policy-assistant serve`)."""
from assistant.interfaces.web.app import main

if __name__ == "__main__":
    main()
