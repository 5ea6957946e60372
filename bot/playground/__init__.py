"""The playground: the whole bot in a browser page, with no Telegram token and no money.

run.py starts the world (bot/sandbox/playground.py) and the web server; server.py serves the
page and its WebSocket; bridge.py turns emulator changes into events and the page's actions
into emulator calls; render.py shapes what the page is sent; static/ is the page itself.
"""
