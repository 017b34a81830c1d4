import "./styles.css";

import { render } from "preact";

import { App } from "./ui/app.js";

render(<App />, document.getElementById("app")!);
