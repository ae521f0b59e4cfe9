// Menus: the toolbar's (a <details class="menu"> each, template folders nested <details class="submenu">)
// and the small popups (a field's "⋮" actions). From the keyboard: Up/Down/Home/End move between the
// items, Left/Right between the toolbar menus (on a folder, Right opens it and Left closes it),
// Enter/Space activate, Escape closes and gives the focus back to the menu's button. One menu is open
// at a time, and a click or the focus anywhere else closes it: nothing stays open over the fields.
import { useEffect } from "preact/hooks";
import { html } from "./html.js";

const ITEMS = ".menu-item:not(:disabled), .submenu > summary, .menu-popup [role=menuitem]:not(:disabled)";

/** Whether `el` shows: every folder between it and `root` is open. */
function shown(el, root) {
  let folder = (el.tagName === "SUMMARY" ? el.parentElement.parentElement : el).closest("details");
  while (folder && folder !== root && root.contains(folder)) {
    if (!folder.open) return false;
    folder = folder.parentElement.closest("details");
  }
  return true;
}

/** The items of a menu (or popup) that can take the focus now, in order. */
export function menuItems(root) {
  return [...root.querySelectorAll(ITEMS)].filter((el) => shown(el, root));
}

/** Up/Down/Home/End among `items` from `current`; true when the key was one of them. */
export function moveAmong(items, current, key) {
  if (!items.length) return false;
  const at = items.indexOf(current);
  const next = { ArrowDown: at + 1, ArrowUp: at < 0 ? items.length - 1 : at - 1, Home: 0, End: items.length - 1 }[key];
  if (next === undefined) return false;
  items[(next + items.length) % items.length].focus();
  return true;
}

function summaryOf(details) {
  return details.querySelector(":scope > summary");
}

function setOpen(details, open) {
  details.open = open;
  summaryOf(details)?.setAttribute("aria-expanded", String(open));
}

function closeMenu(menu) {
  setOpen(menu, false);
  menu.querySelectorAll("details[open]").forEach((d) => setOpen(d, false));
}

/** Open a toolbar menu and focus its first (or last) item; its button when it has none. */
function openMenu(menu, focus = "first") {
  setOpen(menu, true);
  const items = menuItems(menu.querySelector(".menu-items"));
  (items[focus === "last" ? items.length - 1 : 0] || summaryOf(menu)).focus();
}

/** To the menu `delta` away in the toolbar: opened with its first item focused when this one was open. */
function switchMenu(menu, delta) {
  const menus = [...menu.parentElement.querySelectorAll(":scope > details.menu")];
  const next = menus[(menus.indexOf(menu) + delta + menus.length) % menus.length];
  const wasOpen = menu.open;
  closeMenu(menu);
  if (wasOpen) openMenu(next, "first");
  else summaryOf(next).focus();
}

function onMenuKeyDown(event) {
  const menu = event.currentTarget;
  const summary = summaryOf(menu);
  const target = event.target;
  const onButton = target === summary;
  const list = menu.querySelector(".menu-items");
  const key = event.key;
  if (key === "Escape") {
    closeMenu(menu);
    summary.focus();
  } else if (onButton && (key === "ArrowDown" || key === "Enter" || key === " ")) {
    if (menu.open && key !== "ArrowDown") closeMenu(menu);
    else openMenu(menu, "first");
  } else if (onButton && key === "ArrowUp") {
    openMenu(menu, "last");
  } else if (!onButton && moveAmong(menuItems(list), target, key)) {
    // moved
  } else if (key === "ArrowRight" && !onButton && target.tagName === "SUMMARY" && !target.parentElement.open) {
    setOpen(target.parentElement, true);
    menuItems(target.parentElement.querySelector(".submenu-items"))[0]?.focus();
  } else if (key === "ArrowLeft" && !onButton && folderAround(target, menu)) {
    const folder = folderAround(target, menu);
    setOpen(folder, false);
    summaryOf(folder).focus();
  } else if (key === "ArrowLeft" || key === "ArrowRight") {
    switchMenu(menu, key === "ArrowLeft" ? -1 : 1);
  } else {
    return;
  }
  event.preventDefault();
}

/** The open template folder an item (or a folder's button) is in, or null at the menu's top level. */
function folderAround(el, menu) {
  const folder = (el.tagName === "SUMMARY" ? el.parentElement.parentElement : el).closest("details.submenu");
  return folder && menu.contains(folder) ? folder : null;
}

/** Space on the menu's own button was handled at keydown: its keyup must not toggle it again. */
function onMenuKeyUp(event) {
  if (event.key === " " && event.target === summaryOf(event.currentTarget)) event.preventDefault();
}

/** A picked item closes the menu; the focus goes back to its button unless the item moved it. */
function onMenuClick(event) {
  if (!event.target.closest(".menu-item")) return;
  const menu = event.currentTarget;
  const hadFocus = menu.contains(document.activeElement);
  closeMenu(menu);
  if (hadFocus) summaryOf(menu).focus();
}

export function Menu({ label, id, children }) {
  return html`<details class="menu" id=${id} onKeyDown=${onMenuKeyDown} onKeyUp=${onMenuKeyUp} onClick=${onMenuClick}>
    <summary aria-haspopup="menu" aria-expanded="false">${label}</summary>
    <div class="menu-items" role="menu" aria-label=${label}>${children}</div></details>`;
}

/** A folder of a menu (templates by directory): a ▸ heading, not an item; opens in place. */
export function Folder({ name, children }) {
  return html`<details class="submenu"><summary class="menu-folder" role="menuitem" aria-haspopup="menu" aria-expanded="false"
      tabindex="-1">${name}</summary><div class="submenu-items" role="menu" aria-label=${name}>${children}</div></details>`;
}

function closeMenusAway(target) {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!(target instanceof Node) || !menu.contains(target)) closeMenu(menu);
  }
}

/** Outside clicks and focus close the toolbar menus; opening one closes the others. */
export function installMenus(root = document) {
  root.addEventListener("pointerdown", (e) => closeMenusAway(e.target), true);
  root.addEventListener("focusin", (e) => closeMenusAway(e.target));
  root.addEventListener("toggle", (e) => {
    const details = e.target;
    if (!(details instanceof HTMLDetailsElement)) return;
    summaryOf(details)?.setAttribute("aria-expanded", String(details.open));
    if (details.open && details.matches(".menu")) closeMenusAway(details);
  }, true);
}

/** A popup that closes when a click or the focus goes anywhere but into it (or onto `opener`, the
 * button that toggles it). */
export function useDismiss(ref, close, opener) {
  useEffect(() => {
    const away = (e) => {
      const inside = (el) => el && e.target instanceof Node && el.contains(e.target);
      if (!inside(ref.current) && !inside(opener && opener())) close();
    };
    document.addEventListener("pointerdown", away, true);
    document.addEventListener("focusin", away);
    return () => {
      document.removeEventListener("pointerdown", away, true);
      document.removeEventListener("focusin", away);
    };
  }, []);
}
