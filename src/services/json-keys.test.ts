import { describe, expect, it } from 'vitest';
import { duplicateKeyPointer } from './json-keys.js';

describe('duplicateKeyPointer', () => {
  it('finds a member named twice in one object, at any depth, as a JSON pointer', () => {
    expect(duplicateKeyPointer('{"delta":5,"delta":-1}')).toBe('/delta');
    expect(duplicateKeyPointer('{"lines":[{"sku":"A","qty":1},{"sku":"B","sku":"C"}]}')).toBe('/lines/1/sku');
    expect(duplicateKeyPointer('{"a":{"b":{"c":1,"c":2}}}')).toBe('/a/b/c');
    expect(duplicateKeyPointer('[1,[2,{"x":1,"x":1}]]')).toBe('/1/1/x');
  });

  it('compares names as parsed, and writes ~ and / escaped in the pointer', () => {
    expect(duplicateKeyPointer('{"a":1,"\\u0061":2}')).toBe('/a');
    expect(duplicateKeyPointer('{"a/b~c":1,"a/b~c":2}')).toBe('/a~1b~0c');
    expect(duplicateKeyPointer('{"q\\"":1,"q\\"":2}')).toBe('/q"');
  });

  it('takes the same name in different objects, names inside strings, and values equal to names', () => {
    for (const text of [
      '{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}',
      '{"a":"\\",\\"a\\":","b":"a"}',
      '{"x":"{\\"x\\":1,\\"x\\":2}"}',
      '[{"a":1},{"a":1}]',
      '"just a string"',
      '{}',
      '[]',
      '42',
    ])
      expect(duplicateKeyPointer(text), text).toBeUndefined();
  });
});
