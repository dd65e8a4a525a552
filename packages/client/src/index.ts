/**
 * @opendci/client — the DCI client SDK (DciClient, domain helpers). It grows with the protocol
 * issues; the package exists now so that the workspace layout of docs/architecture.md holds.
 */
export {};
