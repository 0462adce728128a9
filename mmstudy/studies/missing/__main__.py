"""`python -m mmstudy.studies.missing`: run the study and build its report."""
import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
