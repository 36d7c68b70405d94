import sys

from heatmap.cli import main

sys.exit(main())
