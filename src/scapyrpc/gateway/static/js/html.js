// htm bound to preact: html`<div>...</div>` templates without a build step.
//
// Element ids (every view names its elements by this rule; the browser tests select by them):
// kebab-case words, `append-protocol-button`; buttons end in `-button`, toolbar menu items start with
// `menu-`. Ids of repeated elements are built from their place, and names that come from the server
// (protocol, field, bit and parameter ids) are kept as they are: a layer's path of protocol ids, then a
// field id and a suffix (`Ether-IP-pane`, `Ether-IP-ttl`, `Ether-IP-ttl-error`), `fe-0-pkt_offset`,
// `fe-global-cache_size`, `hex-22`, `pcap-packet-3`, `doc-tab-1`.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
