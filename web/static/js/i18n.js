// Every text of the dashboard in Bahasa Indonesia (default) and English, and times in WIT.

const TEXTS = {
  "app.title": ["Pusat Kendali", "Command Center"],
  "app.city": ["Kota Ambon", "City of Ambon"],
  "map.label": ["Peta kota", "City map"],
  "layers.title": ["Lapisan", "Layers"],
  "layers.stale": ["tanpa laporan", "no report"],
  "layers.total": ["total", "total"],
  "layers.export": ["Ekspor", "Export"],
  "basemap.title": ["Peta dasar", "Basemap"],
  "basemap.plain": ["Polos", "Plain"],
  "tools.title": ["Alat", "Tools"],
  "search.placeholder": ["Cari nama, ID, NOP…", "Search name, ID, NOP…"],
  "search.none": ["Tidak ditemukan", "Nothing found"],
  "auth.login": ["Masuk", "Sign in"],
  "auth.logout": ["Keluar", "Sign out"],
  "auth.title": ["Masuk ke Pusat Kendali", "Sign in to the Command Center"],
  "auth.username": ["Nama pengguna", "Username"],
  "auth.password": ["Kata sandi", "Password"],
  "auth.failed": ["Nama pengguna atau kata sandi salah", "Wrong username or password"],
  "auth.expired": ["Sesi berakhir; silakan masuk lagi", "Session ended; please sign in again"],
  "common.cancel": ["Batal", "Cancel"],
  "common.save": ["Simpan", "Save"],
  "common.error": ["Terjadi kesalahan", "Something went wrong"],
  "live.on": ["Langsung", "Live"],
  "live.off": ["Terputus", "Disconnected"],
  "live.none": ["Tanpa aliran langsung", "No live stream"],
  "details.close": ["Tutup", "Close"],
  "details.status": ["Status", "Status"],
  "details.observed": ["Laporan terakhir", "Last report"],
  "details.stale": ["Tidak ada laporan terbaru", "No recent report"],
  "details.history": ["Riwayat 24 jam", "Last 24 hours"],
  "details.noHistory": ["Belum ada riwayat", "No history yet"],
  "details.stream": ["Buka siaran kamera", "Open camera stream"],
  "details.value": ["Nilai", "Value"],
  "alerts.title": ["Peringatan", "Alerts"],
  "alerts.none": ["Tidak ada peringatan terbuka", "No open alerts"],
  "alerts.ack": ["Konfirmasi", "Acknowledge"],
  "alerts.acked": ["Dikonfirmasi", "Acknowledged"],
  "alerts.new": ["Peringatan baru", "New alert"],
  "draw.start": ["Gambar area tanggap", "Draw response area"],
  "draw.edit": ["Ubah area", "Edit area"],
  "draw.delete": ["Hapus area", "Delete area"],
  "draw.finishEdit": ["Simpan bentuk", "Save shape"],
  "draw.hint": ["Klik titik-titik area; klik titik pertama untuk menutup", "Click the area's corners; click the first one to close"],
  "draw.formTitle": ["Area tanggap bencana", "Disaster-response area"],
  "draw.name": ["Nama", "Name"],
  "draw.hazard": ["Bencana", "Hazard"],
  "draw.state": ["Tahap", "Stage"],
  "draw.notes": ["Catatan", "Notes"],
  "draw.saved": ["Area tersimpan", "Area saved"],
  "draw.deleted": ["Area dihapus", "Area deleted"],
  "draw.confirmDelete": ["Hapus area ini?", "Delete this area?"],
  "draw.conflict": [
    "Area ini sudah diubah orang lain sejak Anda membukanya. Perubahan Anda tidak disimpan; area dimuat ulang.",
    "Someone else changed this area since you opened it. Your change was not saved; the area was reloaded.",
  ],
  "draw.inside": ["Di dalam area", "Inside the area"],
  "draw.select": ["Pilih area di peta terlebih dahulu", "Select an area on the map first"],
  "hazard.banjir": ["Banjir", "Flood"],
  "hazard.longsor": ["Tanah longsor", "Landslide"],
  "hazard.kebakaran": ["Kebakaran", "Fire"],
  "hazard.gempa": ["Gempa bumi", "Earthquake"],
  "hazard.tsunami": ["Tsunami", "Tsunami"],
  "hazard.cuaca_ekstrem": ["Cuaca ekstrem", "Extreme weather"],
  "hazard.lainnya": ["Lainnya", "Other"],
  "state.draft": ["Draf", "Draft"],
  "state.active": ["Aktif", "Active"],
  "state.closed": ["Ditutup", "Closed"],
  "report.button": ["Laporan situasi", "Situation report"],
  "report.area": ["Laporan area ini", "Report of this area"],
  "report.wait": ["Menyusun laporan…", "Preparing the report…"],
  "queries.title": ["Kueri", "Queries"],
  "queries.signIn": ["Masuk sebagai staf untuk menjalankan kueri spasial.", "Sign in as staff to run spatial queries."],
  "queries.none": ["Tidak ada kueri yang boleh Anda jalankan.", "There are no queries you may run."],
  "queries.run": ["Jalankan", "Run"],
  "queries.clear": ["Hapus", "Clear"],
  "queries.running": ["Menjalankan kueri…", "Running the query…"],
  "queries.matched": ["{n} hasil", "{n} results"],
  "queries.shown": ["{shown} dari {n} hasil ditampilkan", "{shown} of {n} results shown"],
  "queries.empty": ["Tidak ada hasil untuk parameter ini.", "No results for these parameters."],
  "queries.close": ["Tutup hasil", "Close results"],
  "queries.required": ["wajib", "required"],
  "queries.place": ["Tempat", "Place"],
  "queries.placeHint": ["Pilih satu cara menentukan tempat", "Choose one way to give the place"],
  "queries.pick": ["Pilih di peta", "Pick on map"],
  "queries.pickHint": ["Klik satu titik di peta", "Click a point on the map"],
  "queries.useDrawn": ["Pakai area tergambar", "Use the drawn area"],
  "queries.useView": ["Pakai tampilan peta", "Use the map view"],
  "queries.noDrawn": ["Belum ada area yang dipilih atau digambar", "No area is selected or drawn yet"],
  "queries.choose": ["— pilih —", "— choose —"],
  "queries.anyLayer": ["Kosongkan untuk bawaan", "Leave empty for the default"],
  "queries.wit": ["WIT", "WIT"],
  "queries.summary": ["Ringkasan", "Summary"],
  "summary.total": ["Total aset", "Total assets"],
  "summary.area": ["Luas", "Area"],
  "summary.districts": ["Kecamatan", "Districts"],
  "summary.villages": ["Kelurahan/desa tersentuh", "Villages touched"],
  "summary.stale": ["tanpa laporan", "no report"],
  "summary.noStatus": ["tanpa status", "no status"],
  "summary.none": ["Tidak ada aset di dalam area", "No assets inside the area"],
  "export.qgis": ["Proyek QGIS", "QGIS project"],
  "export.wait": ["Menyiapkan berkas…", "Preparing the file…"],
};

const listeners = [];
let current = "id";

export function lang() {
  return current;
}

export function t(key, params = {}) {
  const pair = TEXTS[key];
  let text = pair ? pair[current === "en" ? 1 : 0] : key;
  for (const [name, value] of Object.entries(params)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

export function onLangChange(fn) {
  listeners.push(fn);
}

export function setLang(value) {
  current = value === "en" ? "en" : "id";
  document.documentElement.lang = current;
  try {
    localStorage.setItem("kendali.lang", current);
  } catch {
    /* storage may be disabled; the default stays */
  }
  applyStatic(document);
  for (const fn of listeners) fn(current);
}

export function initialLang() {
  try {
    return localStorage.getItem("kendali.lang") === "en" ? "en" : "id";
  } catch {
    return "id";
  }
}

export function applyStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
}

// Ambon keeps WIT (UTC+9) all year; the browser's own zone does not matter.
const ZONE = "Asia/Jayapura";

export function formatTime(iso, withDate = true) {
  if (!iso) return "—";
  const date = iso instanceof Date ? iso : new Date(iso);
  const options = { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hour12: false };
  if (withDate) Object.assign(options, { day: "2-digit", month: "short" });
  return `${new Intl.DateTimeFormat(current === "en" ? "en-GB" : "id-ID", options).format(date)} WIT`;
}

export function formatNumber(value, digits = 0) {
  return new Intl.NumberFormat(current === "en" ? "en-GB" : "id-ID", { maximumFractionDigits: digits }).format(value);
}
