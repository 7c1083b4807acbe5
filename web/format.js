// How values are shown: times in the browser's zone (UTC in the title), JSON abridged.

const zoneFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
});

/** A time element: the local time as text, ISO UTC in datetime and title. */
export function timeText(iso) {
  if (!iso) return { text: "—", title: "" };
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return { text: String(iso), title: "" };
  return { text: zoneFormat.format(date), title: `${date.toISOString().replace(".000Z", "Z")} (UTC)` };
}

/** "3 min ago", "in 2 h": how far a time is from now. */
export function relative(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const size = Math.abs(seconds);
  const [value, unit] = size < 90 ? [size, "s"] : size < 5400 ? [Math.round(size / 60), "min"]
    : size < 172800 ? [Math.round(size / 3600), "h"] : [Math.round(size / 86400), "d"];
  return seconds < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** Seconds as "42 s", "3 min", "2 h". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Number(seconds);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** JSON on one line, cut to ``limit`` characters with an ellipsis. */
export function abridged(value, limit = 80) {
  let text;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) return "";
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** Pretty JSON for a <pre>. */
export function pretty(value) {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function count(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString();
}
