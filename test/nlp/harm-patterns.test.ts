import { describe, expect, it } from "vitest";

import { featureTokens } from "../../src/nlp/features.js";
import { harmMatches } from "../../src/nlp/harm-patterns.js";

const kinds = (text: string) => {
  const m = harmMatches(featureTokens(text).join(" "));
  return [m.threat && "threat", m.groupHate && "groupHate", m.harassment && "harassment"].filter(
    Boolean,
  );
};

describe("harm patterns: harm written without a swear word or a slur", () => {
  it.each([
    ["Those migrants are vermin.", "groupHate"],
    ["Refugees were an infestation in this town", "groupHate"],
    ["these immigrants breed like rats", "groupHate"],
    ["Every last migrant should be rounded up and deported.", "groupHate"],
    ["Gay people should not be allowed to adopt.", "groupHate"],
    ["exterminate the jews", "groupHate"],
    ["Women are too stupid to vote", "groupHate"],
    ["We should burn down their mosque tonight.", "threat"],
    ["Someone should put a bullet in the senator's head.", "threat"],
    ["I will beat you until you can't walk", "threat"],
    ["It would be a shame if something happened to your kids.", "threat"],
    ["I found out where you live", "threat"],
    ["You are a worthless waste of space.", "harassment"],
    ["nobody will ever love u", "harassment"],
    ["Do the world a favour and disappear.", "harassment"],
    ["trans ppl are all mentally ill", "groupHate"],
    ["Kill all the Somalis in this town", "groupHate"],
    ["Atheists have no place on this earth", "groupHate"],
    ["Enjoy your last week, I am coming for you", "threat"],
    ["meet me after the game and ill put u in the hospital", "threat"],
    ["That clinic on Main Street will burn this weekend", "threat"],
    ["go swallow a bottle of pills", "harassment"],
  ])("%s → %s", (text, kind) => {
    expect(kinds(text)).toContain(kind);
  });

  it.each([
    "Police said the gunman shot three people before he was arrested.",
    "Arsonists burned down the church in 1923, the museum says.",
    "We will destroy them on Sunday, the coach said.",
    "Rats are spreading in the subway and the city hired pest control.",
    "These parasites infest dogs in the summer months.",
    "Migrants are not animals, and the minister should apologise.",
    "Immigrants opened three new bakeries on our street.",
    "Women are the majority of new medical students.",
    "Here's something to ponder when you bite into your next chicken wing.",
    "The hero has to kill the dragon before the final level.",
    "Someone should kill that spider in the bathroom.",
    "Syrians fled the war in their millions, the agency said.",
    "The pharmacist said to take the whole pack of pills with water over a week.",
    "This is your last chance to register for the marathon.",
    "Bring a knife to the picnic for the watermelon.",
    "Women are sick of waiting for equal pay.",
    "Refugees were killed in the attack, officials said.",
  ])("no match: %s", (text) => {
    expect(kinds(text)).toEqual([]);
  });
});
