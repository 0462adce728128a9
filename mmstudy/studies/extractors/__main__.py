"""`python -m mmstudy.studies.extractors`: run the study and build its report."""
import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
