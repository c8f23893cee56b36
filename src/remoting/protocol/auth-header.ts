import { optString, type Ext } from '../header.js';

/**
 * Headers of the ACL 2.0 admin codes AUTH_* 3001-3010 (upstream `CreateUserRequestHeader` …
 * `ListAclsRequestHeader`). Upstream declares none of their fields mandatory: a missing user
 * name or subject is the processor's to refuse, with its own remark.
 */

/** AUTH_CREATE_USER, AUTH_UPDATE_USER, AUTH_DELETE_USER, AUTH_GET_USER (a UserInfo body for create and update). */
export interface UserRequestHeader {
  username?: string;
}

/** AUTH_LIST_USER: users whose name contains `filter`. */
export interface ListUsersRequestHeader {
  filter?: string;
}

/** AUTH_CREATE_ACL, AUTH_UPDATE_ACL (an AclInfo body), AUTH_GET_ACL: `subject` is `User:<name>`. */
export interface AclRequestHeader {
  subject?: string;
}

/** AUTH_DELETE_ACL: one resource's entry of a policy type, or the subject's whole ACL. */
export interface DeleteAclRequestHeader {
  subject?: string;
  policyType?: string;
  resource?: string;
}

/** AUTH_LIST_ACL: subjects containing `subjectFilter`, entries whose resource contains `resourceFilter`. */
export interface ListAclsRequestHeader {
  subjectFilter?: string;
  resourceFilter?: string;
}

export function decodeUserRequestHeader(ext: Ext): UserRequestHeader {
  return { username: optString(ext, 'username') };
}

export function decodeListUsersRequestHeader(ext: Ext): ListUsersRequestHeader {
  return { filter: optString(ext, 'filter') };
}

export function decodeAclRequestHeader(ext: Ext): AclRequestHeader {
  return { subject: optString(ext, 'subject') };
}

export function decodeDeleteAclRequestHeader(ext: Ext): DeleteAclRequestHeader {
  return { subject: optString(ext, 'subject'), policyType: optString(ext, 'policyType'), resource: optString(ext, 'resource') };
}

export function decodeListAclsRequestHeader(ext: Ext): ListAclsRequestHeader {
  return { subjectFilter: optString(ext, 'subjectFilter'), resourceFilter: optString(ext, 'resourceFilter') };
}
