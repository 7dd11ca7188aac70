import data from './iso-3166-alpha2.json' with { type: 'json' };

const DATA: { codes: Record<string, string> } = data;

// Every assigned ISO 3166-1 alpha-2 code and its country's name: the codes the Wi-Fi regulatory domain takes.
export const COUNTRY_CODES: Readonly<Record<string, string>> = DATA.codes;

// Codes people write that ISO 3166-1 does not assign to the country they mean (UK and EL are reserved for the
// United Kingdom and Greece, which are GB and GR).
const MISTAKEN: Record<string, string> = { UK: 'GB', EL: 'GR' };

// Reads a Wi-Fi country (any case) as its upper-case ISO 3166-1 alpha-2 code, or explains why it is not one: the
// Pi keeps Wi-Fi blocked (rfkill) until the regulatory country is a valid code, as raspi-config's list enforces.
export function readCountryCode(text: string): { code: string } | { problem: string } {
  const code = text.toUpperCase();
  if (COUNTRY_CODES[code]) return { code };
  const meant = MISTAKEN[code];
  if (meant) return { problem: `${text} is not an ISO 3166-1 country code: use ${meant} (${COUNTRY_CODES[meant]})` };
  if (!/^[A-Z]{2}$/.test(code)) return { problem: `${JSON.stringify(text)} is not a two-letter ISO 3166-1 country code such as GB, DE or US` };
  return { problem: `${text} is not an assigned ISO 3166-1 country code: use your country's two letters, such as GB, DE or US` };
}
