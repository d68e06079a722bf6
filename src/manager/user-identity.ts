/**
 * The official SDKs name a user `email:zgid`, from `GET {api}/crm/v8/users?type=CurrentUser`
 * and `GET {api}/crm/v8/org`. A failure there is reported, not fatal (ZOHO.md).
 */
export async function fetchUserName(
  apiDomain: string,
  accessToken: string,
  fetchImpl: typeof fetch,
  timeoutMs: number,
): Promise<string | undefined> {
  const get = async (path: string): Promise<unknown> => {
    const response = await fetchImpl(`${apiDomain}${path}`, {
      headers: { Authorization: `Zoho-oauthtoken ${accessToken}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`GET ${path} answered HTTP ${response.status}`);
    return response.json();
  };
  const [users, org] = await Promise.all([get('/crm/v8/users?type=CurrentUser'), get('/crm/v8/org')]);
  const email = (users as { users?: { email?: unknown }[] }).users?.[0]?.email;
  const zgid = (org as { org?: { zgid?: unknown }[] }).org?.[0]?.zgid;
  if (typeof email !== 'string' || email === '') return undefined;
  return zgid === undefined || zgid === null || zgid === '' ? email : `${email}:${String(zgid)}`;
}
