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
    private Tensor<float>? _input;
    private IReadOnlyList<long>? _outputSize;

    private protected ConvLayer(string name, int rank, bool transposed, long inChannels, long outChannels, IReadOnlyList<long> kernelSize,
        IReadOnlyList<long>? stride, long groups, bool bias, IReadOnlyList<long>? dilation, int seed)
    {
        Rank = rank;
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

    /// <summary>Number of spatial axes (1, 2 or 3).</summary>
    public int Rank { get; }

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
        var (gradInput, gradWeight, gradBias) = Gradients(gradOutput, input, Weight.ToTensor(WeightShape), Bias is not null, _outputSize);
        gradWeight.FlattenTo(WeightGrad);
        if (BiasGrad is not null)
        {
            gradBias!.FlattenTo(BiasGrad);
        }

        return gradInput;
    }

    /// <summary>Forward with an <c>output_size</c> (transposed layers only), remembering both for <see cref="Backward"/>.</summary>
    private protected Tensor<float> ForwardCore(Tensor<float> input, IReadOnlyList<long>? outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        var output = Compute(input, Weight.ToTensor(WeightShape), Bias?.ToTensor(Bias.Length), outputSize);
        _input = input;
        _outputSize = outputSize;
        return output;
    }

    /// <summary>The functional forward call with the layer's settings.</summary>
    private protected abstract Tensor<float> Compute(Tensor<float> input, Tensor<float> weight, Tensor<float>? bias, IReadOnlyList<long>? outputSize);

    /// <summary>The functional backward call with the layer's settings.</summary>
    private protected abstract (Tensor<float> GradInput, Tensor<float> GradWeight, Tensor<float>? GradBias) Gradients(
        Tensor<float> gradOutput, Tensor<float> input, Tensor<float> weight, bool hasBias, IReadOnlyList<long>? outputSize);
}

/// <summary>A transposed convolution layer (<c>torch.nn.ConvTranspose1d/2d/3d</c>); <see cref="Forward(Tensor{float}, IReadOnlyList{long}?)"/> takes an <c>output_size</c>.</summary>
public abstract class ConvTransposeLayer : ConvLayer
{
    private protected ConvTransposeLayer(string name, int rank, long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride,
        IReadOnlyList<long>? padding, IReadOnlyList<long>? outputPadding, long groups, bool bias, IReadOnlyList<long>? dilation, int seed)
        : base(name, rank, true, inChannels, outChannels, kernelSize, stride, groups, bias, dilation, seed)
    {
        Padding = padding;
        OutputPadding = outputPadding;
    }

    /// <summary>Padding per axis (null: 0).</summary>
    public IReadOnlyList<long>? Padding { get; }

    /// <summary>output_padding per axis (null: 0).</summary>
    public IReadOnlyList<long>? OutputPadding { get; }

    /// <summary><c>forward(input, output_size)</c>: chooses the output_padding that gives <paramref name="outputSize"/> (spatial, or with N and C).</summary>
    public Tensor<float> Forward(Tensor<float> input, IReadOnlyList<long>? outputSize) => ForwardCore(input, outputSize);

    private protected override Tensor<float> Compute(Tensor<float> input, Tensor<float> weight, Tensor<float>? bias, IReadOnlyList<long>? outputSize) => Rank switch
    {
        1 => Torch.ConvTranspose1d(input, weight, bias, Stride, Padding, OutputPadding, Groups, Dilation, outputSize),
        2 => Torch.ConvTranspose2d(input, weight, bias, Stride, Padding, OutputPadding, Groups, Dilation, outputSize),
        _ => Torch.ConvTranspose3d(input, weight, bias, Stride, Padding, OutputPadding, Groups, Dilation, outputSize),
    };

    private protected override (Tensor<float>, Tensor<float>, Tensor<float>?) Gradients(Tensor<float> gradOutput, Tensor<float> input, Tensor<float> weight, bool hasBias,
        IReadOnlyList<long>? outputSize) => Rank switch
    {
        1 => TorchGrad.ConvTranspose1dBackward(gradOutput, input, weight, Stride, Padding, OutputPadding, Groups, Dilation, outputSize, hasBias),
        2 => TorchGrad.ConvTranspose2dBackward(gradOutput, input, weight, Stride, Padding, OutputPadding, Groups, Dilation, outputSize, hasBias),
        _ => TorchGrad.ConvTranspose3dBackward(gradOutput, input, weight, Stride, Padding, OutputPadding, Groups, Dilation, outputSize, hasBias),
    };
}

/// <summary>A convolution layer (<c>torch.nn.Conv1d/2d/3d</c>).</summary>
public abstract class ConvForwardLayer : ConvLayer
{
    private protected ConvForwardLayer(string name, int rank, long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride,
        TorchPadding? padding, IReadOnlyList<long>? dilation, long groups, bool bias, int seed)
        : base(name, rank, false, inChannels, outChannels, kernelSize, stride, groups, bias, dilation, seed)
    {
        Padding = padding;
    }

    /// <summary>Padding: numbers per axis, <c>"same"</c> or <c>"valid"</c> (null: 0).</summary>
    public TorchPadding? Padding { get; }

    private protected override Tensor<float> Compute(Tensor<float> input, Tensor<float> weight, Tensor<float>? bias, IReadOnlyList<long>? outputSize) => Rank switch
    {
        1 => Torch.Conv1d(input, weight, bias, Stride, Padding, Dilation, Groups),
        2 => Torch.Conv2d(input, weight, bias, Stride, Padding, Dilation, Groups),
        _ => Torch.Conv3d(input, weight, bias, Stride, Padding, Dilation, Groups),
    };

    private protected override (Tensor<float>, Tensor<float>, Tensor<float>?) Gradients(Tensor<float> gradOutput, Tensor<float> input, Tensor<float> weight, bool hasBias,
        IReadOnlyList<long>? outputSize) => Rank switch
    {
        1 => TorchGrad.Conv1dBackward(gradOutput, input, weight, Stride, Padding, Dilation, Groups, hasBias),
        2 => TorchGrad.Conv2dBackward(gradOutput, input, weight, Stride, Padding, Dilation, Groups, hasBias),
        _ => TorchGrad.Conv3dBackward(gradOutput, input, weight, Stride, Padding, Dilation, Groups, hasBias),
    };
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
    : ConvForwardLayer("Conv1d", 1, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, seed);

/// <summary><c>torch.nn.Conv2d</c>: input <c>(N, C_in, H, W)</c>, weight <c>(C_out, C_in/groups, kh, kw)</c>.</summary>
public sealed class Conv2d(long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride = null,
    TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1, bool bias = true, int seed = 0)
    : ConvForwardLayer("Conv2d", 2, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, seed);

/// <summary><c>torch.nn.Conv3d</c>: input <c>(N, C_in, D, H, W)</c>, weight <c>(C_out, C_in/groups, kd, kh, kw)</c>.</summary>
public sealed class Conv3d(long inChannels, long outChannels, IReadOnlyList<long> kernelSize, IReadOnlyList<long>? stride = null,
    TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1, bool bias = true, int seed = 0)
    : ConvForwardLayer("Conv3d", 3, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, seed);
