// The builder's webpack config and the jest transform both load .svg files
// as their source text, which is what LabIcon expects.
declare module '*.svg' {
  const value: string;
  export default value;
}
