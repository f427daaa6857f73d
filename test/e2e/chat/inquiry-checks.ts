/** An inquiry as the REST API shows it (what `squall inquiry get` and the UI see). */
export async function inquiryOf(apiUrl: string, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${apiUrl}/api/v1/inquiries/${encodeURIComponent(id)}`);
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`GET inquiry ${id}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}
