// Start-up: connect, load definitions and templates, open the document from the URL (or a new one).
import { render } from "preact";
import { html } from "./html.js";
import { App } from "./app.js";
import { Rpc } from "./rpc.js";
import { app, newTab, apply, activeTab, undo, redo } from "./store.js";
import { loadDefinitions } from "./definitions.js";
import { newDocument, decodeFragment } from "./document.js";

function shortcuts(event) {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
  const key = event.key.toLowerCase();
  const target = event.target;
  // A field being typed in keeps the browser's own text undo.
  if (target && (target.tagName === "TEXTAREA" || target.dataset.dirty === "true")) return;
  const tab = activeTab();
  if (!tab) return;
  if (key === "z" && !event.shiftKey) {
    event.preventDefault();
    undo(tab);
  } else if ((key === "z" && event.shiftKey) || key === "y") {
    event.preventDefault();
    redo(tab);
  }
}

async function start() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  app.rpc = new Rpc(`${scheme}://${location.host}/ws`);
  window.scapyrpcEditor = app; // for the browser tests and the console
  const root = document.getElementById("app");
  root.textContent = "";
  render(html`<${App} />`, root);
  document.addEventListener("keydown", shortcuts);
  let doc = newDocument();
  try {
    doc = decodeFragment(location.hash) || doc;
  } catch (err) {
    app.notice.value = `The link holds no readable document (${err.message}); a new one was opened`;
  }
  for (let attempt = 0; !app.defs.value; attempt++) {
    try {
      app.defs.value = await loadDefinitions();
    } catch (err) {
      app.notice.value = `Cannot load protocol definitions (${err.message}); retrying…`;
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
  const tab = newTab("Untitled", doc);
  const built = apply(tab, doc, { history: false });
  app.rpc.call("get_templates").then((t) => (app.templates.value = t), () => {});
  await built;
  performance.mark("editable");
  document.body.dataset.ready = "true";
}

start();
