// Numbers and times as the screen shows them.

/** A fraction as a percentage with one decimal ("66.7%"); "—" for null (nothing to divide). */
export function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

/** An instant as local date and time in the catalogue's time zone. */
export function localTime(iso, timeZone) {
  const format = new Intl.DateTimeFormat("zh-CN", {
    timeZone,
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
  return format.format(new Date(iso));
}

/** "超 5分" past ``iso``, "剩 3分" before it, against ``now`` (ms). */
export function untilOrPast(iso, now) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const span = Math.abs(seconds);
  let text = `${span}秒`;
  if (span >= 86400) text = `${Math.floor(span / 86400)}天`;
  else if (span >= 3600) text = `${Math.floor(span / 3600)}时`;
  else if (span >= 60) text = `${Math.floor(span / 60)}分`;
  return seconds < 0 ? `超 ${text}` : `剩 ${text}`;
}

/** A DOM element with text and attributes (never innerHTML: API text is untrusted). */
export function element(tag, { text, title, className, data } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (title) node.title = title;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(data || {})) node.dataset[name] = value;
  for (const child of children) node.append(child);
  return node;
}
