// A short message over the map (saved, conflict, error), gone after a few seconds.

let timer = null;

export function toast(message, kind = "info", ms = 5000) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => {
    box.hidden = true;
  }, ms);
}
