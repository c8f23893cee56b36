import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { SessionCredentialsKey } from '../../remoting/acl-signature.js';
import {
  decodeAclRequestHeader, decodeDeleteAclRequestHeader, decodeListAclsRequestHeader, decodeListUsersRequestHeader, decodeUserRequestHeader,
} from '../../remoting/protocol/auth-header.js';
import type { AuthMetadataStore } from '../auth/auth-metadata-store.js';
import {
  AuthError, UserType, aclFromInfo, aclToInfo, parseResource, policyTypeByName, subjectUsername, userToInfo, userTypeByName,
  type AclInfo, type UserInfo,
} from '../auth/model.js';

/** A malformed body: answered INVALID_PARAMETER with what is wrong. */
class BodyError extends Error {}

function jsonBody<T>(req: RemotingCommand, what: string): T {
  if (!req.body || req.body.length === 0) throw new BodyError(`The body of ${what} is null: send a JSON ${what}`);
  let v: unknown;
  try {
    v = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw new BodyError(`The body of ${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BodyError(`The body of ${what} must be a JSON object`);
  return v as T;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * The ACL 2.0 admin codes AUTH_CREATE_USER … AUTH_LIST_ACL (3001-3010), as upstream's
 * `AdminBrokerProcessor` handles them: store errors are NO_PERMISSION with the store's message
 * (upstream `handleAuthException`), a blank user name INVALID_PARAMETER, and only a super user
 * creates, updates or deletes a super user when the caller signed the request.
 */
export class AuthAdminProcessor {
  constructor(private readonly store: () => AuthMetadataStore) {}

  process(req: RemotingCommand): RemotingCommand {
    try {
      return this.dispatch(req);
    } catch (err) {
      if (err instanceof AuthError) return createResponse(req, ResponseCode.NO_PERMISSION, err.message);
      if (err instanceof BodyError) return createResponse(req, ResponseCode.INVALID_PARAMETER, err.message);
      throw err;
    }
  }

  private dispatch(req: RemotingCommand): RemotingCommand {
    const store = this.store();
    const ok = (body?: Buffer): RemotingCommand => createResponse(req, ResponseCode.SUCCESS, undefined, body ? { body } : {});
    const blank = (what: string): RemotingCommand => createResponse(req, ResponseCode.INVALID_PARAMETER, `The ${what} is blank`);
    switch (req.code) {
      case RequestCode.AUTH_CREATE_USER: case RequestCode.AUTH_UPDATE_USER: {
        const { username } = decodeUserRequestHeader(req.extFields);
        if (!username || username.trim() === '') return blank('username');
        const info = jsonBody<UserInfo>(req, 'user');
        const user = { ...info, username };
        const create = req.code === RequestCode.AUTH_CREATE_USER;
        if (userTypeByName(user.userType) === UserType.SUPER && this.isNotSuperUserLogin(req, store)) {
          return createResponse(req, ResponseCode.SYSTEM_ERROR, `The super user can only be ${create ? 'create' : 'update'} by super user`);
        }
        if (create) {
          store.createUser(user);
        } else {
          const old = store.getUser(username);
          if (!old) throw new AuthError('The user is not exist');
          if (old.userType === UserType.SUPER && this.isNotSuperUserLogin(req, store)) throw new AuthError('The super user can only be update by super user');
          store.updateUser(user);
        }
        return ok();
      }
      case RequestCode.AUTH_DELETE_USER: {
        const { username } = decodeUserRequestHeader(req.extFields);
        if (!username || username.trim() === '') return blank('username');
        const old = store.getUser(username);
        if (!old) return ok();
        if (old.userType === UserType.SUPER && this.isNotSuperUserLogin(req, store)) throw new AuthError('The super user can only be update by super user');
        store.deleteUser(username);
        return ok();
      }
      case RequestCode.AUTH_GET_USER: {
        const { username } = decodeUserRequestHeader(req.extFields);
        if (!username || username.trim() === '') return blank('username');
        const user = store.getUser(username);
        return ok(user ? json(userToInfo(user)) : undefined);
      }
      case RequestCode.AUTH_LIST_USER: {
        const users = store.listUser(decodeListUsersRequestHeader(req.extFields).filter);
        return ok(users.length > 0 ? json(users.map(userToInfo)) : undefined);
      }
      case RequestCode.AUTH_CREATE_ACL: case RequestCode.AUTH_UPDATE_ACL: {
        const header = decodeAclRequestHeader(req.extFields);
        const info = jsonBody<AclInfo>(req, 'acl');
        const subject = typeof info.subject === 'string' && info.subject !== '' ? info.subject : header.subject;
        if (!subject || subject.trim() === '') return blank('subject');
        if (subjectUsername(subject) === undefined) throw new AuthError(`The subject ${subject} is invalid: use User:<username>.`);
        store.putAcl(aclFromInfo(info, subject));
        return ok();
      }
      case RequestCode.AUTH_DELETE_ACL: {
        const h = decodeDeleteAclRequestHeader(req.extFields);
        if (!h.subject || h.subject.trim() === '') return blank('subject');
        const policyType = h.policyType ? policyTypeByName(h.policyType) : undefined;
        if (h.policyType && !policyType) throw new AuthError(`The policy type ${h.policyType} is unknown: use Custom or Default.`);
        const resource = h.resource ? parseResource(h.resource) : undefined;
        if (h.resource && !resource) throw new AuthError(`The resource ${h.resource} is invalid.`);
        store.deleteAcl(h.subject, policyType, resource);
        return ok();
      }
      case RequestCode.AUTH_GET_ACL: {
        const { subject } = decodeAclRequestHeader(req.extFields);
        if (!subject || subject.trim() === '') return blank('subject');
        const acl = store.getAcl(subject);
        return ok(acl ? json(aclToInfo(acl)) : undefined);
      }
      case RequestCode.AUTH_LIST_ACL: {
        const h = decodeListAclsRequestHeader(req.extFields);
        const acls = store.listAcl(h.subjectFilter, h.resourceFilter);
        return ok(acls.length > 0 ? json(acls.map(aclToInfo)) : undefined);
      }
      default:
        return createResponse(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${req.code} not supported`);
    }
  }

  /** Upstream `isNotSuperUserLogin`: an unsigned request (authentication off) counts as a super user's. */
  private isNotSuperUserLogin(req: RemotingCommand, store: AuthMetadataStore): boolean {
    const accessKey = req.extFields?.[SessionCredentialsKey.ACCESS_KEY];
    if (!accessKey) return false;
    return !store.isSuperUser(accessKey);
  }
}
