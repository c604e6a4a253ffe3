"""The live camera page: `python live.py` serves it (server.py), styles.py lists what it may use, engine.py is
its one link to the rest of painterly, static/ is the page."""
