using Microsoft.ML.OnnxRuntime;

namespace Deconv.Bench;

/// <summary>
/// An ONNX Runtime session on one model with input and output bound to our arrays, as fast as ORT runs it:
/// the given intra-op threads, sequential execution, all graph optimisations, weights as initializers.
/// </summary>
internal sealed class OrtRunner : IDisposable
{
    private static readonly string[] InputNames = ["X"], OutputNames = ["Y"];
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly OrtValue _input, _output;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue[] _inputs, _outputs;

    public OrtRunner(byte[] model, float[] input, long[] inputShape, float[] output, long[] outputShape, int threads)
    {
        _options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(model, _options);
        _input = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        _output = OrtValue.CreateTensorValueFromMemory(output, outputShape);
        _inputs = [_input];
        _outputs = [_output];
    }

    /// <summary>One inference: the output array receives the result.</summary>
    public void Run() => _session.Run(_runOptions, InputNames, _inputs, OutputNames, _outputs);

    public void Dispose()
    {
        _runOptions.Dispose();
        _output.Dispose();
        _input.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
