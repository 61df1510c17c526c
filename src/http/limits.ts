/** KV values are limited to 512 KiB, as Consul's kv_max_value_size. */
export const KV_MAX_VALUE_BYTES = 512 * 1024;
/** A txn request body, as Consul's txn_max_req_len. */
export const TXN_MAX_BODY_BYTES = 512 * 1024;
/** Operations in one txn (Consul's maxTxnOps). */
export const TXN_MAX_OPS = 64;
