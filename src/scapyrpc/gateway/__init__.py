"""The HTTP side: POST /rpc, the WebSocket and the browser editor (`static/`), through the broker's
own queue (`app`); the editor's files compressed once (`assets`)."""
