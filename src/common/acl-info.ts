/**
 * Bodies of the ACL 2.0 admin codes AUTH_* 3001-3010 (upstream `UserInfo` and `AclInfo`), as
 * JSON: what the broker answers and what clients and mqadmin send. Names are upstream's
 * ("Super"/"Normal", "enable"/"disable", resources "Topic:x", actions "Pub", decisions "Allow").
 */

export interface UserInfo {
  username?: string;
  password?: string;
  userType?: string;
  userStatus?: string;
}

export interface PolicyEntryInfo {
  resource?: string;
  actions?: string[];
  sourceIps?: string[];
  decision?: string;
}

export interface PolicyInfo {
  policyType?: string;
  entries?: PolicyEntryInfo[];
}

export interface AclInfo {
  subject?: string;
  policies?: PolicyInfo[];
}
