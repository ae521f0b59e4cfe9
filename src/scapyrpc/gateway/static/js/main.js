// Start-up: connect, bring back the tabs of before a reload, render, install the keyboard shortcuts and
// the menus' behaviour; the store loads definitions, templates and the documents.
import { render } from "preact";
import { html } from "./html.js";
import { App } from "./app.js";
import { Rpc } from "./rpc.js";
import { app, start } from "./store.js";
import { installShortcuts, shortcuts } from "./keys.js";
import { installMenus } from "./menu.js";
import { loadTabs, keepTabs } from "./persist.js";
import { pasteOnPage } from "./pastebox.js";

async function main() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const started = start(new Rpc(`${scheme}://${location.host}/ws`), location.hash, loadTabs());
  window.scapyrpcEditor = app; // for the browser tests and the console
  window.scapyrpcShortcuts = shortcuts;
  const root = document.getElementById("app");
  root.textContent = "";
  render(html`<${App} />`, root);
  installShortcuts(document);
  installMenus(document);
  document.addEventListener("paste", pasteOnPage);
  await started;
  keepTabs();
  performance.mark("editable");
  document.body.dataset.ready = "true";
}

main();
