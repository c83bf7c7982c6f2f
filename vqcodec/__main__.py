import sys

from vqcodec.cli import main

sys.exit(main())
