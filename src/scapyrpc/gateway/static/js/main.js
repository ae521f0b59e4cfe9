// Start-up: connect, render, undo/redo keys; the store loads definitions, templates and the document.
import { render } from "preact";
import { html } from "./html.js";
import { App } from "./app.js";
import { Rpc } from "./rpc.js";
import { app, start, activeTab, undo, redo } from "./store.js";
import { installMenus } from "./menu.js";

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

async function main() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const started = start(new Rpc(`${scheme}://${location.host}/ws`), location.hash);
  window.scapyrpcEditor = app; // for the browser tests and the console
  const root = document.getElementById("app");
  root.textContent = "";
  render(html`<${App} />`, root);
  document.addEventListener("keydown", shortcuts);
  installMenus(document);
  await started;
  performance.mark("editable");
  document.body.dataset.ready = "true";
}

main();
