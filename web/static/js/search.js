// Search by name, external id or an identifier the server names for the layer (`kendali:searchKeys`: a NOP,
// a code), through the feature API's CQL2 filter on every layer the caller sees; pick a result to fly to it.

import { getJson } from "./api.js";
import { openDetails } from "./details.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

const PER_LAYER = 5;
let timer = null;
let generation = 0;

function literal(text) {
  return `'${text.replaceAll("'", "''")}'`;
}

// The user's text is a literal, never CQL2: quotes are doubled, and LIKE's wildcards are dropped.
export function searchFilter(text, collection) {
  const plain = text.replace(/[%_\\]/g, "").trim();
  const exact = literal(text.trim());
  let filter = `CASEI(name) LIKE CASEI(${literal(`%${plain}%`)}) OR external_id = ${exact}`;
  for (const key of collection["kendali:searchKeys"] || []) filter += ` OR ${key} = ${exact}`;
  return filter;
}

export function initSearch() {
  const input = document.getElementById("search-input");
  const form = document.getElementById("search");
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(input.value), 300);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run(input.value);
  });
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) document.getElementById("search-results").hidden = true;
  });
}

async function run(text) {
  const list = document.getElementById("search-results");
  const mine = ++generation;
  if (text.trim().length < 2) {
    list.hidden = true;
    return;
  }
  const layers = state.collections.filter((c) => state.visible.get(c.id) !== false);
  const pages = await Promise.all(
    layers.map((c) => {
      const q = new URLSearchParams({ filter: searchFilter(text, c), limit: String(PER_LAYER), properties: "name,external_id" });
      return getJson(`/collections/${c.id}/items?${q}`).then((page) => ({ c, page })).catch(() => null);
    }),
  );
  if (mine !== generation) return;
  list.replaceChildren();
  for (const found of pages.filter(Boolean)) {
    for (const f of found.page.features) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.layer = found.c.id;
      button.dataset.feature = String(f.id);
      button.textContent = `${f.properties.name || f.properties.external_id || f.id}`;
      const small = document.createElement("small");
      small.textContent = ` ${found.c.title}`;
      button.append(small);
      button.addEventListener("click", () => {
        list.hidden = true;
        openDetails(found.c.id, f.id, true).catch(() => {});
      });
      li.append(button);
      list.append(li);
    }
  }
  if (!list.children.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = t("search.none");
    list.append(li);
  }
  list.hidden = false;
}
