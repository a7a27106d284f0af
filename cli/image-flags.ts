// `kubedask sim --image NAME=COMMAND`, repeatable: an image the sim's kubelet may run, and the
// local command that stands for its entrypoint. Light on purpose (parsed in every process).
import { UsageError } from './errors.js';

/** Adds one `NAME=COMMAND` to the mappings given so far; COMMAND is split into words as a shell
 *  would (quotes group, a backslash escapes the next character). */
export function addImageMapping(value: string, flag: string, previous: Record<string, string[]> = {}): Record<string, string[]> {
  const eq = value.indexOf('=');
  const name = eq < 0 ? '' : value.slice(0, eq).trim();
  if (!name || /\s/.test(name)) throw new UsageError(`${flag} must be NAME=COMMAND (an image and the local command for its entrypoint, e.g. python:3.12=python3), got "${value}"`);
  const words = splitWords(value.slice(eq + 1), flag);
  if (!words.length) throw new UsageError(`${flag} ${name}= needs a command, e.g. ${name}=node`);
  return { ...previous, [name]: words };
}

export function splitWords(text: string, flag: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) word += text[++i]!;
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (ch === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i]!;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote) throw new UsageError(`${flag}: unclosed ${quote} in "${text}"`);
  if (word !== undefined) words.push(word);
  return words;
}
