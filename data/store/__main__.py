"""`python -m data.store`."""
from data.store.cli import main

raise SystemExit(main())
