/**
 * The value of one sample line of the `/metrics` served at `httpUrl`, e.g.
 * `im_gateway_frames_dropped_total{reason="inbox_full"}`; `undefined` when the line is absent.
 */
export async function metric(httpUrl: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
