/**
 * Half a UTF-16 surrogate pair with no other half: not a character, and no UTF-8 text (so no column, no file) can
 * hold it. JSON may spell one ("\ud800"), and a string cut between the halves of a pair holds one.
 */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
