import { useEffect, useRef, useState } from "preact/hooks";

import { ProvenanceQuery } from "../api/documents.js";
import type { ResultOf } from "../graphql.js";
import type { Session } from "../state/session.js";
import { time } from "./format.js";

type Graph = ResultOf<typeof ProvenanceQuery>["provenance"];
type Entry = Graph["entries"][number];

const shorten = (text: string) => (text.length > 28 ? `${text.slice(0, 27)}…` : text);

/**
 * `provenance(trendId)` drawn by Cytoscape (loaded only on this page, so the queue stays small).
 * The table under the drawing carries the same entries for keyboards and screen readers.
 */
export function ProvenanceView({ session, trendId }: { session: Session; trendId: string }) {
  const [graph, setGraph] = useState<Graph | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [selected, setSelected] = useState<Entry | undefined>();
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    session.client
      .request(ProvenanceQuery, { trendId })
      .then((data) => setGraph(data.provenance))
      .catch((e: Error) => setError(e.message));
  }, [trendId]);

  useEffect(() => {
    if (!graph || !container.current) return undefined;
    let destroyed = false;
    let destroy: (() => void) | undefined;
    void import("cytoscape").then(({ default: cytoscape }) => {
      if (destroyed || !container.current) return;
      const ids = new Set(graph.entries.map((e) => e.id));
      const cy = cytoscape({
        container: container.current,
        elements: [
          ...graph.entries.map((e) => ({
            data: { id: e.id, label: `${e.step}\n${shorten(e.actor)}` },
          })),
          ...graph.edges
            .filter((e) => ids.has(e.from) && ids.has(e.to))
            .map((e, i) => ({
              data: { id: `edge-${i}`, source: e.from, target: e.to, label: e.kind },
            })),
        ],
        // Left to right, as the pipeline reads: breadthfirst ranks by depth, the transform turns it.
        layout: {
          name: "breadthfirst",
          directed: true,
          spacingFactor: 1.3,
          padding: 24,
          transform: (_node, p) => ({ x: p.y, y: p.x }),
        },
        maxZoom: 1.4,
        style: [
          {
            selector: "node",
            style: {
              shape: "round-rectangle",
              width: 160,
              height: 48,
              "text-max-width": "150px",
              "background-color": "#e8eef9",
              "border-color": "#2f5597",
              "border-width": 1,
              label: "data(label)",
              "text-wrap": "wrap",
              "text-valign": "center",
              "font-size": 11,
              color: "#1a1a1a",
            },
          },
          { selector: "node:selected", style: { "background-color": "#ffd966" } },
          {
            selector: "edge",
            style: {
              width: 1.5,
              "line-color": "#7f8ea3",
              "target-arrow-color": "#7f8ea3",
              "target-arrow-shape": "triangle",
              "curve-style": "bezier",
              label: "data(label)",
              "font-size": 9,
              color: "#444",
              "text-background-color": "#fff",
              "text-background-opacity": 1,
            },
          },
        ],
      });
      cy.on("tap", "node", (event) =>
        setSelected(graph.entries.find((e) => e.id === event.target.id())),
      );
      container.current.dataset.rendered = String(cy.nodes().length);
      destroy = () => cy.destroy();
    });
    return () => {
      destroyed = true;
      destroy?.();
    };
  }, [graph]);

  if (error) {
    return (
      <p role="alert" class="error">
        {error}
      </p>
    );
  }
  if (!graph) return <p class="muted">Loading provenance…</p>;
  const traceId = graph.entries[0]?.traceId;
  return (
    <section class="provenance" aria-labelledby="prov-graph-h">
      <h2 id="prov-graph-h">
        Provenance of trend <code>{trendId}</code>
      </h2>
      {traceId && <p class="muted">trace {traceId}</p>}
      <div
        class="graph"
        ref={container}
        data-testid="provenance-graph"
        role="img"
        aria-label={`Provenance graph: ${graph.entries.map((e) => e.step).join(", then ")}`}
      />
      {selected && (
        <div class="entry-detail" data-testid="entry-detail">
          <h3>
            {selected.step} <span class="muted">by {selected.actor}</span>
          </h3>
          <pre>{JSON.stringify({ input: selected.input, output: selected.output }, null, 2)}</pre>
        </div>
      )}
      <table>
        <caption>Entries</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Actor</th>
            <th scope="col">At</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {graph.entries.map((e) => (
            <tr key={e.id}>
              <td>{e.step}</td>
              <td>{e.actor}</td>
              <td>{time(e.createdAt)}</td>
              <td>
                <button type="button" onClick={() => setSelected(e)}>
                  Show
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
