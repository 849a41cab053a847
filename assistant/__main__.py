import sys

from assistant.interfaces.cli.main import main

sys.exit(main())
