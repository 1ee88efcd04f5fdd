from motte.cli import entry

entry()
