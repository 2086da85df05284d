const isStream = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';

/**
 * A stream can be read once: a message whose content includes one cannot be
 * rebuilt for a retry. Strings, Buffers, paths and URLs can.
 */
export function isReplayable(data: Record<string, unknown>): boolean {
  const parts: unknown[] = [data['text'], data['html'], data['amp'], data['watchHtml'], data['raw'], data['icalEvent']];
  for (const list of [data['attachments'], data['alternatives']]) {
    if (Array.isArray(list)) parts.push(...list);
  }
  return !parts.some(
    (part) =>
      isStream(part) ||
      (typeof part === 'object' && part !== null && (isStream((part as Record<string, unknown>)['content']) || isStream((part as Record<string, unknown>)['raw']))),
  );
}
