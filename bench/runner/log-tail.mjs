// The last lines a child process wrote, kept to explain a crash without flooding the terminal.

export class LogTail {
  /** @param {number} maxLines */
  constructor(maxLines) {
    this.maxLines = maxLines;
    this.lines = [];
    this.partial = '';
  }

  /** @param {Buffer | string} chunk */
  push(chunk) {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop();
    this.lines.push(...parts);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  toString() {
    return [...this.lines, this.partial].filter(Boolean).join('\n');
  }
}
