import { eld } from "eld/medium";
import { describe, expect, it } from "vitest";

import { detectLanguage } from "../../src/nlp/language.js";

describe("detectLanguage", () => {
  it("should report und, not another language, when English nearly ties eld's top guess", () => {
    // eld alone calls this Danish, with English close behind: a confident "da" would cap the
    // Judge's confidence and send an English post to a human as text the models cannot judge.
    const text = "pink bird feeder";
    expect(eld.detect(text).language).toBe("da");
    const result = detectLanguage(text);
    expect(result.language).toBe("und");
    expect(result.reliable).toBe(false);
    expect(result.confidence).toBeLessThanOrEqual(0.3);
  });

  it("should keep short sentences in other languages as detected", () => {
    expect(detectLanguage("Dit is een mooie dag").language).toBe("nl");
    expect(detectLanguage("Bonjour mes amis").language).toBe("fr");
    expect(detectLanguage("Buenos días a todos").language).toBe("es");
    expect(detectLanguage("Ich bin sehr müde heute").language).toBe("de");
    expect(detectLanguage("Tall trees everywhere").language).toBe("en");
  });
});
