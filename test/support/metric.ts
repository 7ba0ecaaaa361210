/**
 * The value of one sample line of a `/metrics` text, e.g.
 * `im_gateway_frames_dropped_total{reason="inbox_full"}`; `undefined` when the line is absent.
 */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** `sample` of the `/metrics` served at `httpUrl` now. */
export async function metric(httpUrl: string, series: string): Promise<number | undefined> {
  return sample(await (await fetch(`${httpUrl}/metrics`)).text(), series);
}
