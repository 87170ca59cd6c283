"""Start LA Lens: the same as ``streamlit run app.py [ARGS]``, with one fix.

Streamlit treats a folder named ``pages/`` next to the entry script as a legacy (v1) multipage
folder until ``st.navigation`` has run once in the process, so a deep link such as ``/attention``
opened first after a start would run that page alone, without app.py's navigation. app.py always
uses ``st.navigation``, so we say so before the server starts.
"""
import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

PagesManager.uses_pages_directory = False

if __name__ == "__main__":
    sys.argv = ["streamlit", "run", "app.py", *sys.argv[1:]]
    sys.exit(cli.main())
