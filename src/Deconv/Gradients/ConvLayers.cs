using System.Numerics.Tensors;

namespace Deconv.Layers;

/// <summary>
/// A convolution or transposed convolution with its own weight and bias, in PyTorch's terms (<c>torch.nn.ConvTranspose2d</c>,
/// <c>torch.nn.Conv2d</c>, ...), for training: <see cref="Forward"/> remembers its input, <see cref="Backward"/> returns
/// the input gradient and writes <see cref="WeightGrad"/> and <see cref="BiasGrad"/> (overwriting, not accumulating).
/// </summary>
/// <remarks>
/// The weights start as PyTorch starts them: uniform in <c>[-1/sqrt(fan_in), 1/sqrt(fan_in)]</c> with
/// <c>fan_in = weight.shape[1] * kernel taps</c>, the bias likewise, drawn from a <see cref="Random"/> seeded by the
/// constructor's <c>seed</c>, so a layer is the same on every run.
/// </remarks>
public abstract class ConvLayer
{
    private readonly int _rank;
    private readonly bool _transposed;
    private Tensor<float>? _input;
    private IReadOnlyList<long>? _outputSize;

    private protected ConvLayer(string name, int rank, bool transposed, long inChannels, long outChannels, IReadOnlyList<long> kernelSize,
        IReadOnlyList<long>? stride, IReadOnlyList<long>? padding, IReadOnlyList<long>? outputPadding, TorchPadding? convPadding, long groups,
        bool bias, IReadOnlyList<long>? dilation, int seed)
    {
        _rank = rank;
        _transposed = transposed;
        Name = name;
        var kernel = FrontEnd.PerAxis(name, "kernel_size", kernelSize ?? throw new ArgumentNullException(nameof(kernelSize)), rank, 0);
        foreach (var (value, param) in new[] { (inChannels, "in_channels"), (outChannels, "out_channels"), (groups, "groups") })
        {
            FrontEnd.Positive(name, param, value, param);
            FrontEnd.ToInt(name, param, value, param);
        }

        if (inChannels % groups != 0)
        {
            throw FrontEnd.Error(name, "groups", $"in_channels must be divisible by groups (in_channels = {inChannels}, groups = {groups})");
        }

        if (outChannels % groups != 0)
        {
            throw FrontEnd.Error(name, "groups", $"out_channels must be divisible by groups (out_channels = {outChannels}, groups = {groups})");
        }

        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;
        ConvPadding = convPadding;
        Groups = groups;
        Dilation = dilation;
        // ConvTranspose weight (C_in, C_out/groups, k...); Conv weight (C_out, C_in/groups, k...).
        WeightShape = transposed ? [inChannels, outChannels / groups, .. kernel.Select(k => (long)k)] : [outChannels, inChannels / groups, .. kernel.Select(k => (long)k)];
        var count = Shapes.TryProduct(WeightShape);
        if (count is null || count > Array.MaxLength)
        {
            throw FrontEnd.Error(name, "kernel_size", $"weight shape {Shapes.Format(WeightShape)} is too large");
        }

        Weight = new float[(int)count];
        WeightGrad = new float[Weight.Length];
        Bias = bias ? new float[outChannels] : null;
        BiasGrad = bias ? new float[outChannels] : null;
        var bound = 1 / Math.Sqrt(WeightShape[1] * (double)kernel.Aggregate(1L, (p, k) => p * k));
        var random = new Random(seed);
        for (var i = 0; i < Weight.Length; i++)
        {
            Weight[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        }

        for (var i = 0; i < (Bias?.Length ?? 0); i++)
        {
            Bias![i] = (float)((random.NextDouble() * 2 - 1) * bound);
        }

        Parameters = Bias is null
            ? [new Parameter("weight", Weight, WeightGrad, WeightShape)]
            : [new Parameter("weight", Weight, WeightGrad, WeightShape), new Parameter("bias", Bias, BiasGrad!, [Bias.Length])];
    }

    /// <summary>The PyTorch module name (<c>ConvTranspose2d</c>, ...), used in error messages.</summary>
    public string Name { get; }

    /// <summary>Shape of <see cref="Weight"/>: <c>(C_in, C_out/groups, k...)</c> transposed, <c>(C_out, C_in/groups, k...)</c> forward.</summary>
    public long[] WeightShape { get; }

    /// <summary>The weight, row-major in <see cref="WeightShape"/>; change it freely (an optimizer does).</summary>
    public float[] Weight { get; }

    /// <summary>The bias <c>(C_out)</c>, or null for a layer without bias.</summary>
    public float[]? Bias { get; }

    /// <summary>The weight gradient from the last <see cref="Backward"/>.</summary>
    public float[] WeightGrad { get; }

    /// <summary>The bias gradient from the last <see cref="Backward"/>, or null without bias.</summary>
    public float[]? BiasGrad { get; }

    /// <summary>Weight (and bias) with their gradients, for an <see cref="Optimizer"/>.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Stride per axis (null: 1).</summary>
    public IReadOnlyList<long>? Stride { get; }

    /// <summary>Transposed layers: padding per axis (null: 0).</summary>
    public IReadOnlyList<long>? Padding { get; }

    /// <summary>Transposed layers: output_padding per axis (null: 0).</summary>
    public IReadOnlyList<long>? OutputPadding { get; }

    /// <summary>Forward layers: padding (numbers, <c>"same"</c> or <c>"valid"</c>; null: 0).</summary>
    public TorchPadding? ConvPadding { get; }

    /// <summary>Channel groups.</summary>
    public long Groups { get; }

    /// <summary>Dilation per axis (null: 1).</summary>
    public IReadOnlyList<long>? Dilation { get; }

    /// <summary>Computes the layer's output and remembers <paramref name="input"/> (by reference) for <see cref="Backward"/>.</summary>
    public Tensor<float> Forward(Tensor<float> input) => ForwardCore(input, null);

    /// <summary>
    /// The gradient of the loss with respect to the last <see cref="Forward"/>'s input, for the gradient
    /// <paramref name="gradOutput"/> with respect to its output; writes <see cref="WeightGrad"/> and <see cref="BiasGrad"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="Forward"/> has not been called.</exception>
    public Tensor<float> Backward(Tensor<float> gradOutput)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        var input = _input ?? throw new InvalidOperationException($"{Name}: Backward needs a Forward call first (it uses the input Forward saw)");
        var weight = Weight.ToTensor(WeightShape);
        var hasBias = Bias is not null;
        var (gradInput, gradWeight, gradBias) = (_transposed, _rank) switch
        {
            (true, 1) => TorchGrad.ConvTranspose1dBackward(gradOutput, input, weight, Stride, Padding, OutputPadding, Groups, Dilation, _outputSize, hasBias),
            (true, 2) => TorchGrad.ConvTranspose2dBackward(gradOutput, input, weight, Stride, Padding, OutputPadding, Groups, Dilation, _outputSize, hasBias),
            (true, _) => TorchGrad.ConvTranspose3dBackward(gradOutput, input, weight, Stride, Padding, OutputPadding, Groups, Dilation, _outputSize, hasBias),
            (false, 1) => TorchGrad.Conv1dBackward(gradOutput, input, weight, Stride, ConvPadding, Dilation, Groups, hasBias),
            (false, 2) => TorchGrad.Conv2dBackward(gradOutput, input, weight, Stride, ConvPadding, Dilation, Groups, hasBias),
            (false, _) => TorchGrad.Conv3dBackward(gradOutput, input, weight, Stride, ConvPadding, Dilation, Groups, hasBias),
        };
        gradWeight.FlattenTo(WeightGrad);
        if (BiasGrad is not null)
        {
            gradBias!.FlattenTo(BiasGrad);
        }

        return gradInput;
    }

    private protected Tensor<float> ForwardCore(Tensor<float> input, IReadOnlyList<long>? outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        var weight = Weight.ToTensor(WeightShape);
        var bias = Bias?.ToTensor(Bias.Length);
        var output = (_transposed, _rank) switch
        {
            (true, 1) => Torch.ConvTranspose1d(input, weight, bias, Stride, Padding, OutputPadding, Groups, Dilation, outputSize),
            (true, 2) => Torch.ConvTranspose2d(input, weight, bias, Stride, Padding, OutputPadding, Groups, Dilation, outputSize),
            (true, _) => Torch.ConvTranspose3d(input, weight, bias, Stride, Padding, OutputPadding, Groups, Dilation, outputSize),
            (false, 1) => Torch.Conv1d(input, weight, bias, Stride, ConvPadding, Dilation, Groups),
            (false, 2) => Torch.Conv2d(input, weight, bias, Stride, ConvPadding, Dilation, Groups),
            (false, _) => Torch.Conv3d(input, weight, bias, Stride, ConvPadding, Dilation, Groups),
        };
        _input = input;
        _outputSize = outputSize;
        return output;
    }
}

/// <summary>A transposed convolution layer (<c>torch.nn.ConvTranspose1d/2d/3d</c>); <see cref="Forward(Tensor{float}, IReadOnlyList{long}?)"/> takes an <c>output_size</c>.</summary>
public abstract class ConvTransposeLayer : ConvLayer
{
    private protected ConvTransposeLayer(string name, int rank, long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride,
        IReadOnlyList<long>? padding, IReadOnlyList<long>? outputPadding, long groups, bool bias, IReadOnlyList<long>? dilation, int seed)
        : base(name, rank, true, inChannels, outChannels, kernelSize, stride, padding, outputPadding, null, groups, bias, dilation, seed)
    {
    }

    /// <summary><c>forward(input, output_size)</c>: chooses the output_padding that gives <paramref name="outputSize"/> (spatial, or with N and C).</summary>
    public Tensor<float> Forward(Tensor<float> input, IReadOnlyList<long>? outputSize) => ForwardCore(input, outputSize);
}

/// <summary><c>torch.nn.ConvTranspose1d</c>: input <c>(N, C_in, L)</c>, weight <c>(C_in, C_out/groups, k)</c>.</summary>
public sealed class ConvTranspose1d(long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride = null,
    IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null, long groups = 1, bool bias = true,
    IReadOnlyList<long>? dilation = null, int seed = 0)
    : ConvTransposeLayer("ConvTranspose1d", 1, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation, seed);

/// <summary><c>torch.nn.ConvTranspose2d</c>: input <c>(N, C_in, H, W)</c>, weight <c>(C_in, C_out/groups, kh, kw)</c>.</summary>
/// <example><code>var up = new ConvTranspose2d(1, 1, [4], stride: [2], padding: [1], bias: false);</code></example>
public sealed class ConvTranspose2d(long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride = null,
    IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null, long groups = 1, bool bias = true,
    IReadOnlyList<long>? dilation = null, int seed = 0)
    : ConvTransposeLayer("ConvTranspose2d", 2, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation, seed);

/// <summary><c>torch.nn.ConvTranspose3d</c>: input <c>(N, C_in, D, H, W)</c>, weight <c>(C_in, C_out/groups, kd, kh, kw)</c>.</summary>
public sealed class ConvTranspose3d(long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride = null,
    IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null, long groups = 1, bool bias = true,
    IReadOnlyList<long>? dilation = null, int seed = 0)
    : ConvTransposeLayer("ConvTranspose3d", 3, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation, seed);

/// <summary><c>torch.nn.Conv1d</c>: input <c>(N, C_in, L)</c>, weight <c>(C_out, C_in/groups, k)</c>.</summary>
public sealed class Conv1d(long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride = null,
    TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1, bool bias = true, int seed = 0)
    : ConvLayer("Conv1d", 1, false, inChannels, outChannels, kernelSize, stride, null, null, padding, groups, bias, dilation, seed);

/// <summary><c>torch.nn.Conv2d</c>: input <c>(N, C_in, H, W)</c>, weight <c>(C_out, C_in/groups, kh, kw)</c>.</summary>
public sealed class Conv2d(long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride = null,
    TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1, bool bias = true, int seed = 0)
    : ConvLayer("Conv2d", 2, false, inChannels, outChannels, kernelSize, stride, null, null, padding, groups, bias, dilation, seed);

/// <summary><c>torch.nn.Conv3d</c>: input <c>(N, C_in, D, H, W)</c>, weight <c>(C_out, C_in/groups, kd, kh, kw)</c>.</summary>
public sealed class Conv3d(long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride = null,
    TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1, bool bias = true, int seed = 0)
    : ConvLayer("Conv3d", 3, false, inChannels, outChannels, kernelSize, stride, null, null, padding, groups, bias, dilation, seed);
