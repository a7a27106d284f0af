// Reads a server-sent event stream from a fetch response (EventSource hides the status of a
// refused request and reconnects by itself with a stale position). Calls onData with each
// event's data; resolves when the stream ends, rejects when it breaks.
export async function readEvents(res, onData) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
      if (data.length > 0) onData(data.join('\n'));
    }
  }
}
