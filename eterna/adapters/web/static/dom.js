// Building the page from data: every value from the server becomes a text node, never markup.

/**
 * Create an element. `props` sets attributes (`class`, `data-*`, `title`...) and, for
 * `hidden` and `disabled`, properties; children are nodes or strings (added as text).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "hidden" || key === "disabled") node[key] = Boolean(value);
    else if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of `node` with `children`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Shorten a mint, pool or signature to its ends, keeping the whole in a tooltip. */
export function short(value, keep = 4) {
  const text = String(value ?? "");
  if (text.length <= keep * 2 + 1) return h("span", {}, text);
  return h("span", { title: text, class: "mono" }, `${text.slice(0, keep)}…${text.slice(-keep)}`);
}

/** The symbol of a token, or its shortened mint when no venue has named it yet. */
export function tokenName(token) {
  if (!token) return "?";
  return token.symbol || `${token.mint.slice(0, 4)}…${token.mint.slice(-4)}`;
}

/** Local wall-clock time with milliseconds, so steps a few ms apart read apart. */
export function clock(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso ?? "");
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

/** A local date and time to the second. */
export function dateTime(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso ?? "");
  return `${at.toLocaleDateString()} ${clock(iso).slice(0, 8)}`;
}

/** A status badge; its colour comes from the stylesheet by status. */
export function badge(status) {
  return h("span", { class: "status", "data-status": status }, status);
}

/** A small two-column list of label / value pairs (values skipped when absent). */
export function facts(pairs) {
  const list = h("dl", { class: "facts" });
  for (const [label, value, field] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    list.append(h("div", { "data-field": field }, h("dt", {}, label), h("dd", {}, value)));
  }
  return list;
}

/** A table with a header row and one row per item; a heading ending in "#" is numeric. */
export function table(className, headings, rows) {
  const cells = headings.map((title) =>
    title.endsWith("#") ? h("th", { class: "num" }, title.slice(0, -1)) : h("th", {}, title),
  );
  return h("table", { class: className }, h("thead", {}, h("tr", {}, cells)), h("tbody", {}, rows));
}
