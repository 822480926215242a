// cdk-nag's AwsSolutions pack over synthesized CloudFormation templates.
//
// `cargo xtask test` runs this with the packages of package.json installed under target/ (never
// committed): `node nag.js OUT_DIR TEMPLATE...`. Each template is included into a stack of its own
// through `CfnInclude`, so the rules see the resources exactly as the template holds them, with
// their `Metadata.cdk_nag.rules_to_suppress` (the typed suppressions the Rust constructs write).
// Every unsuppressed finding, error or warning, is printed as one line
// `TEMPLATE LOGICAL_ID RULE: message`, and the exit code is 1 when there is any.
//
// cdk-nag is pinned at 2.x: 3.x no longer reads `cdk_nag` from a resource's Metadata (only
// `Validations.of(construct).acknowledge`, which an included template cannot carry).
// aws-cdk-lib's own template validation may print warnings on stderr as well (E1029 on the
// channels file's `${VAR}` text, which cfn-lint is told to ignore there): those are not findings.

'use strict';

const path = require('node:path');
const { App, Aspects, Stack, DefaultStackSynthesizer } = require('aws-cdk-lib');
const { CfnInclude } = require('aws-cdk-lib/cloudformation-include');
const { AwsSolutionsChecks } = require('cdk-nag');

function main(argv) {
  const [outdir, ...templates] = argv;
  if (!outdir || templates.length === 0) {
    console.error('usage: node nag.js OUT_DIR TEMPLATE...');
    return 2;
  }
  const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': false } });
  const stacks = new Map();
  templates.forEach((template, index) => {
    // No bootstrap parameters or rules: only the included resources are checked.
    const synthesizer = new DefaultStackSynthesizer({ generateBootstrapVersionRule: false });
    const stack = new Stack(app, `Template${index}`, { synthesizer });
    new CfnInclude(stack, 'Included', { templateFile: template });
    stacks.set(stack.artifactId, template);
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  const assembly = app.synth();

  let findings = 0;
  for (const stack of assembly.stacks) {
    const template = path.basename(stacks.get(stack.id) ?? stack.id);
    for (const message of stack.messages) {
      if (message.level !== 'error' && message.level !== 'warning') {
        continue;
      }
      const resource = message.id.split('/').slice(3).join('/') || message.id;
      const text = String(message.entry.data).split('\n')[0];
      console.log(`${template} ${resource} ${text}`);
      findings += 1;
    }
  }
  console.error(`cdk-nag: ${findings} unsuppressed finding(s) in ${templates.length} template(s)`);
  return findings === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
