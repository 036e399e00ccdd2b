"""The handbook's command-line tool and MkDocs hooks (see `python -m handbook --help`)."""
