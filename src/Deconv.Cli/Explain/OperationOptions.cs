using System.CommandLine;

namespace Deconv.Cli.Explain;

/// <summary>
/// The options that describe one transposed convolution in a framework's terms, shared by <c>explain</c>,
/// <c>shape</c> and <c>convert</c>; <see cref="Read"/> turns them into an <see cref="ExplainRequest"/>.
/// </summary>
internal sealed class OperationOptions
{
    private readonly Option<string> _framework;
    private readonly Option<string?> _inputSize = new("--input-size") { Description = "Input length per spatial axis, e.g. 3 or 3,3 (default 3 per axis). The longest per-axis list sets the rank (1-3); with single values it is 2-D." };
    private readonly Option<string?> _kernel = new("--kernel") { Description = "Kernel taps per axis (default 2)." };
    private readonly Option<string?> _stride = new("--stride") { Description = "Stride per axis (default 1)." };
    private readonly Option<string?> _dilation = new("--dilation") { Description = "Dilation per axis (default 1)." };
    private readonly Option<string?> _padding = new("--padding") { Description = "tf: VALID (default) or SAME; torch: padding N per axis (default 0); onnx: auto_pad NOTSET (default), VALID, SAME_UPPER or SAME_LOWER." };
    private readonly Option<string?> _pads = new("--pads") { Description = "Explicit pads, begins then ends (onnx pads; tf explicit padding), e.g. 1,0,1,0." };
    private readonly Option<string?> _outputPadding = new("--output-padding") { Description = "torch/onnx output_padding per axis." };
    private readonly Option<string?> _outputSize = new("--output-size") { Description = "tf output_shape, torch output_size, onnx output_shape (spatial sizes). tf default: the smallest valid size (SAME: input*stride)." };
    private readonly Option<int?> _dims = new("--dims") { Description = "Spatial axes (1, 2 or 3); default: the longest per-axis list, or 2." };
    private readonly Option<int> _inChannels = new("--in-channels") { Description = "Input channels C.", DefaultValueFactory = _ => 1 };
    private readonly Option<int> _outChannels = new("--out-channels") { Description = "Output channels M.", DefaultValueFactory = _ => 1 };
    private readonly Option<int> _groups = new("--groups") { Description = "Channel groups G (divides C and M).", DefaultValueFactory = _ => 1 };

    /// <param name="frameworkOption">The name of the framework option: <c>--framework</c>, or <c>--from</c> for convert.</param>
    public OperationOptions(string frameworkOption)
    {
        _framework = new(frameworkOption) { Description = "Whose parameters: tf, torch or onnx.", DefaultValueFactory = _ => "tf" };
        _framework.AcceptOnlyFromAmong("tf", "torch", "onnx");
    }

    public IEnumerable<Option> All =>
        [_framework, _dims, _inputSize, _kernel, _stride, _dilation, _padding, _pads, _outputPadding, _outputSize, _inChannels, _outChannels, _groups];

    public ExplainRequest Read(ParseResult parse) => new()
    {
        Framework = parse.GetValue(_framework)!,
        Dims = parse.GetValue(_dims),
        InputSize = ExplainRequest.ParseInts(parse.GetValue(_inputSize), "--input-size"),
        Kernel = ExplainRequest.ParseInts(parse.GetValue(_kernel), "--kernel"),
        Stride = ExplainRequest.ParseInts(parse.GetValue(_stride), "--stride"),
        Dilation = ExplainRequest.ParseInts(parse.GetValue(_dilation), "--dilation"),
        Padding = parse.GetValue(_padding),
        Pads = ExplainRequest.ParseInts(parse.GetValue(_pads), "--pads"),
        OutputPadding = ExplainRequest.ParseInts(parse.GetValue(_outputPadding), "--output-padding"),
        OutputSize = ExplainRequest.ParseInts(parse.GetValue(_outputSize), "--output-size"),
        InChannels = parse.GetValue(_inChannels),
        OutChannels = parse.GetValue(_outChannels),
        Groups = parse.GetValue(_groups),
    };
}
