namespace Deconv;

/// <summary>
/// The one canonical description of a convolution / transposed-convolution pair, to which every
/// framework's parameters are translated. Kernels only ever see this.
/// </summary>
/// <remarks>
/// <para>Named in the terms of the <b>transposed</b> convolution, which maps data of shape
/// <see cref="InputShape"/> (<see cref="InputChannels"/> channels, axis lengths
/// <see cref="AxisGeometry.Input"/>) to <see cref="OutputShape"/> (<see cref="OutputChannels"/>
/// channels, lengths <see cref="AxisGeometry.Output"/>). The forward convolution of the same
/// geometry is its adjoint and maps <see cref="OutputShape"/> back to <see cref="InputShape"/>.</para>
/// <para>The weight is always <c>[InputChannels, OutputChannels/Groups, k...]</c>: the tensor of ONNX
/// and PyTorch <c>ConvTranspose</c>, which is also exactly the weight of the forward ONNX/PyTorch
/// <c>Conv</c> that the transposed convolution is the gradient of.</para>
/// <para>With <c>G</c> groups, transposed-output channel <c>g*(M/G) + j</c> reads only input
/// channels <c>g*(C/G) .. g*(C/G) + C/G - 1</c>.</para>
/// </remarks>
public sealed class ConvGeometry : IEquatable<ConvGeometry>
{
    private readonly AxisGeometry[] _axes;
    private readonly nint[] _outputLengths; // OutputShape as tensor lengths

    /// <summary>Creates and validates a geometry; <paramref name="op"/> names the operation in error messages.</summary>
    /// <exception cref="ConvolutionArgumentException">A count is not positive, channels do not divide by groups, an axis is invalid, or a size overflows.</exception>
    public ConvGeometry(int batch, int inputChannels, int outputChannels, int groups, IReadOnlyList<AxisGeometry> axes,
        DataLayout layout = DataLayout.ChannelsFirst, string op = "ConvTranspose")
    {
        ArgumentNullException.ThrowIfNull(axes);
        Batch = batch;
        InputChannels = inputChannels;
        OutputChannels = outputChannels;
        Groups = groups;
        _axes = [.. axes];
        Layout = layout;
        Validate(op);
        // Cached: the engine and the one-shot front ends read these on every call.
        InputLength = Shapes.Product(InputShape);
        OutputLength = Shapes.Product(OutputShape);
        WeightLength = Shapes.Product(WeightShape);
        _outputLengths = [.. OutputShape.Select(l => (nint)l)];
    }

    /// <summary>Batch size N (may be 0).</summary>
    public int Batch { get; }

    /// <summary>Channels C of the transposed convolution's input (the forward convolution's output).</summary>
    public int InputChannels { get; }

    /// <summary>Channels M of the transposed convolution's output (the forward convolution's input).</summary>
    public int OutputChannels { get; }

    /// <summary>Channel groups G; both channel counts divide by it.</summary>
    public int Groups { get; }

    /// <summary>Spatial axes, outermost first (1, 2 or 3 of them).</summary>
    public IReadOnlyList<AxisGeometry> Axes => _axes;

    /// <summary>Number of spatial axes.</summary>
    public int Rank => _axes.Length;

    /// <summary>Layout of both data tensors.</summary>
    public DataLayout Layout { get; }

    /// <summary>Input channels per group, C/G.</summary>
    public int InputChannelsPerGroup => InputChannels / Groups;

    /// <summary>Output channels per group, M/G.</summary>
    public int OutputChannelsPerGroup => OutputChannels / Groups;

    /// <summary>Shape of the transposed convolution's input in <see cref="Layout"/>.</summary>
    public long[] InputShape => DataShape(InputChannels, a => a.Input);

    /// <summary>Shape of the transposed convolution's output in <see cref="Layout"/>.</summary>
    public long[] OutputShape => DataShape(OutputChannels, a => a.Output);

    /// <summary>Shape of the weight: <c>[C, M/G, k...]</c>.</summary>
    public long[] WeightShape => [InputChannels, OutputChannelsPerGroup, .. _axes.Select(a => (long)a.Kernel)];

    /// <summary>Number of elements of <see cref="InputShape"/>.</summary>
    public long InputLength { get; }

    /// <summary>Number of elements of <see cref="OutputShape"/>.</summary>
    public long OutputLength { get; }

    /// <summary>Number of elements of <see cref="WeightShape"/>.</summary>
    public long WeightLength { get; }

    /// <summary><see cref="OutputShape"/> as tensor lengths, for the result of a one-shot call (read-only, so never changed).</summary>
    internal ReadOnlySpan<nint> OutputTensorLengths => _outputLengths;

    /// <summary>Multiply-adds that the transposed (or forward) convolution needs, without any multiplication by inserted zeros.</summary>
    public long MultiplyAdds => Shapes.Product([Batch, InputChannels, OutputChannelsPerGroup,
        .. _axes.Select(a => (long)a.Input), .. _axes.Select(a => (long)a.Kernel)]);

    /// <summary>The same geometry with another layout.</summary>
    public ConvGeometry WithLayout(DataLayout layout) => new(Batch, InputChannels, OutputChannels, Groups, _axes, layout);

    /// <summary>Whether both describe the same computation: counts, groups, layout and every axis.</summary>
    public bool Equals(ConvGeometry? other) => other is not null && (ReferenceEquals(this, other) ||
        (Batch == other.Batch && InputChannels == other.InputChannels && OutputChannels == other.OutputChannels && Groups == other.Groups &&
         Layout == other.Layout && _axes.AsSpan().SequenceEqual(other._axes)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ConvGeometry);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Batch, InputChannels, OutputChannels, Groups, Layout, _axes.Length > 0 ? _axes[0] : default);

    /// <inheritdoc />
    public override string ToString() =>
        $"N={Batch} C={InputChannels} M={OutputChannels} G={Groups} {Layout} axes=[{string.Join(", ", _axes.Select(a => $"I{a.Input} K{a.Kernel} S{a.Stride} D{a.Dilation} crop{a.CropBegin} O{a.Output}"))}]";

    private long[] DataShape(int channels, Func<AxisGeometry, int> length) => Layout == DataLayout.ChannelsFirst
        ? [Batch, channels, .. _axes.Select(a => (long)length(a))]
        : [Batch, .. _axes.Select(a => (long)length(a)), channels];

    private void Validate(string op)
    {
        if (_axes.Length is < 1 or > 3)
        {
            throw new ConvolutionArgumentException($"{op}: {_axes.Length} spatial axes given but 1, 2 or 3 are supported", "axes");
        }

        Positive(Batch, "batch", op, allowZero: true);
        Positive(Groups, "groups", op, allowZero: false);
        Positive(InputChannels, "input_channels", op, allowZero: false);
        Positive(OutputChannels, "output_channels", op, allowZero: false);
        if (InputChannels % Groups != 0)
        {
            throw new ConvolutionArgumentException($"{op}: input channels {InputChannels} are not divisible by groups {Groups}", "groups");
        }

        if (OutputChannels % Groups != 0)
        {
            throw new ConvolutionArgumentException($"{op}: output channels {OutputChannels} are not divisible by groups {Groups}", "groups");
        }

        for (var i = 0; i < _axes.Length; i++)
        {
            _axes[i].Validate(op, i);
        }

        // Element counts must fit an array: checked before anything is allocated.
        foreach (var (shape, name) in new[] { (InputShape, "input"), (OutputShape, "output"), (WeightShape, "weight") })
        {
            var count = Shapes.TryProduct(shape);
            if (count is null || count > Array.MaxLength)
            {
                throw new ConvolutionArgumentException(
                    $"{op}: {name} shape [{string.Join(", ", shape)}] has more than {Array.MaxLength} elements", name);
            }
        }
    }

    private static void Positive(int value, string name, string op, bool allowZero)
    {
        if (value < 0 || (value == 0 && !allowZero))
        {
            throw new ConvolutionArgumentException($"{op}: {name} is {value} but must be {(allowZero ? "at least 0" : "at least 1")}", name);
        }
    }
}
