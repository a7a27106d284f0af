// operator/api/quantity.ts against Kubernetes' documented behaviour: the grammar of
// k8s.io/apimachinery/pkg/api/resource (quantity.go) and the examples of the "Resource units"
// page (kubernetes.io/docs/concepts/configuration/manage-resources-containers/).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuantityFormatError } from '../../operator/api/errors.js';
import { isQuantity, parseQuantity, quantityBytes } from '../../operator/api/quantity.js';

describe('parseQuantity', () => {
  it('reads the documented examples', () => {
    // "128974848, 129e6, 129M, 128974848000m, 123Mi" from the Resource units page.
    assert.equal(parseQuantity('128974848'), 128974848);
    assert.equal(parseQuantity('129e6'), 129e6);
    assert.equal(parseQuantity('129M'), 129e6);
    assert.equal(parseQuantity('128974848000m'), 128974848);
    assert.equal(parseQuantity('123Mi'), 128974848);
    // "0.1 is equivalent to 100m" (CPU); quantity_test.go's 1.5Gi = 1536Mi, 1e3 = 1k, 0.5 = 500m.
    assert.equal(parseQuantity('100m'), parseQuantity('0.1'));
    assert.equal(parseQuantity('1.5Gi'), parseQuantity('1536Mi'));
    assert.equal(parseQuantity('1.5Gi'), 1610612736);
    assert.equal(parseQuantity('1e3'), parseQuantity('1k'));
    assert.equal(parseQuantity('0.5'), parseQuantity('500m'));
  });

  it('takes every decimal and binary suffix and exponents with either case and sign', () => {
    const decimal: [string, number][] = [['1n', 1e-9], ['1u', 1e-6], ['1m', 1e-3], ['1', 1], ['1k', 1e3], ['1M', 1e6], ['1G', 1e9], ['1T', 1e12], ['1P', 1e15], ['1E', 1e18]];
    const binary: [string, number][] = [['1Ki', 2 ** 10], ['1Mi', 2 ** 20], ['1Gi', 2 ** 30], ['1Ti', 2 ** 40], ['1Pi', 2 ** 50], ['2Ei', 2 ** 61]];
    for (const [q, v] of [...decimal, ...binary]) assert.equal(parseQuantity(q), v, q);
    assert.equal(parseQuantity('1E3'), 1000); // E followed by digits is an exponent, alone it is exa
    assert.equal(parseQuantity('1e+3'), 1000);
    assert.equal(parseQuantity('25e-3'), 0.025);
    assert.equal(parseQuantity('-1.5Gi'), -1.5 * 2 ** 30);
    assert.equal(parseQuantity('+5'), 5);
    assert.equal(parseQuantity('250123n'), 0.000250123); // metrics-server's CPU usage form
  });

  it('takes every documented number form', () => {
    assert.equal(parseQuantity('5.'), 5);
    assert.equal(parseQuantity('.5'), 0.5);
    assert.equal(parseQuantity('+.5Ki'), 512);
    assert.equal(parseQuantity('007'), 7);
  });

  it('scales decimals exactly where the double allows it', () => {
    assert.equal(parseQuantity('1.1k'), 1100); // 1.1 * 1000 would be 1100.0000000000002
    assert.equal(parseQuantity('3500m'), 3.5);
    assert.equal(parseQuantity('0.3G'), 3e8);
  });

  it('takes a JSON number as it is (int-or-string fields)', () => {
    assert.equal(parseQuantity(1000), 1000);
    assert.throws(() => parseQuantity(Number.NaN), QuantityFormatError);
  });

  it('rejects what Kubernetes rejects, naming the input and the expected form', () => {
    const bad = ['', ' 1', '1 ', 'lots', '1K', '1ki', '1KB', '1Gb', '1.5.5', 'e3', '1e', '1e1.5', 'Gi', '--1', '1Mi5', '1 Gi', '-', '.', '1ee3', '0x10'];
    for (const q of bad) {
      assert.throws(() => parseQuantity(q), (e: unknown) => e instanceof QuantityFormatError && e.text === q
        && e.message.includes(JSON.stringify(q)) && e.message.includes('quantities must match the regular expression'), q);
      assert.equal(isQuantity(q), false, q);
    }
  });
});

describe('quantityBytes', () => {
  it('rounds up to whole bytes as Kubernetes Value() does', () => {
    assert.equal(quantityBytes('4Gi'), 4 * 2 ** 30);
    assert.equal(quantityBytes('512M'), 512e6);
    assert.equal(quantityBytes('1.5Gi'), 1.5 * 2 ** 30);
    assert.equal(quantityBytes('1e9'), 1e9);
    assert.equal(quantityBytes('100m'), 1);
    assert.equal(quantityBytes('0.1Gi'), 107374183);
    assert.equal(quantityBytes(1000), 1000);
  });

  it('is undefined for what is not a size', () => {
    assert.equal(quantityBytes('lots'), undefined);
    assert.equal(quantityBytes('-1Gi'), undefined);
    assert.equal(quantityBytes(-1), undefined);
  });
});
